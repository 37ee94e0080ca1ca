"""Business rules of API.md. No boto3 here: storage goes through store/."""
