"""The local stack: template.yaml's API served over HTTP with AWS emulated in-process.

Never deployed. `local.template` is import-safe (no moto, no side effects) and is
shared with the test suite; the other modules start emulation and serve requests.
"""
