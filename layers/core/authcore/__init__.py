"""Shared code of every function: account, session and MFA rules over DynamoDB.

Kept empty on purpose: each function imports only the submodules it needs.
"""
