"""Outgoing email (SES) and SMS (SNS), and the message templates they carry."""
