"""Domain errors carrying the API error `type`; http/ turns them into the wire body."""

from __future__ import annotations

# type -> (status, default message). Messages stay generic where a detail would help an attacker.
CATALOGUE: dict[str, tuple[int, str]] = {
    "general_argument_invalid": (400, "Invalid argument."),
    "general_unauthorized_scope": (401, "The current user is not authorized to perform the requested action."),
    "user_more_factors_required": (401, "More factors are required to complete the sign in process."),
    "user_challenge_required": (401, "A recently succeeded challenge is required to complete this action."),
    "user_invalid_credentials": (401, "Invalid credentials. Please check the email and password."),
    "user_invalid_token": (401, "Invalid token passed in the request."),
    "user_jwt_invalid": (401, "The JWT token is invalid. Please check the token and try again."),
    "user_session_already_exists": (401, "Creation of a session is prohibited when a session is active."),
    "user_session_not_found": (404, "The current user session could not be found."),
    "user_not_found": (404, "User with the requested ID could not be found."),
    "user_blocked": (401, "The current user has been blocked."),
    "user_already_exists": (409, "A user with the same id, email, or phone already exists in this project."),
    "user_email_already_exists": (409, "A user with the same email already exists in this project."),
    "user_phone_already_exists": (409, "A user with the same phone number already exists in this project."),
    "user_email_already_verified": (409, "The email address has already been verified."),
    "user_phone_already_verified": (409, "The phone number has already been verified."),
    "user_email_not_found": (400, "The user has no email address."),
    "user_phone_not_found": (400, "The user has no phone number."),
    "user_email_not_verified": (400, "The email address has not been verified."),
    "user_phone_not_verified": (400, "The phone number has not been verified."),
    "user_authenticator_not_found": (404, "Authenticator could not be found on the current user."),
    "user_authenticator_already_verified": (409, "The authenticator has already been verified."),
    "user_recovery_codes_already_exists": (409, "The current user already generated recovery codes."),
    "user_recovery_codes_not_found": (404, "The current user has not generated recovery codes yet."),
    "user_passkey_not_found": (404, "Passkey with the requested ID could not be found."),
    "general_rate_limit_exceeded": (
        429,
        ("Rate limit for the current endpoint has been exceeded. Please try again later."),
    ),
    "general_smtp_disabled": (503, "Email sending is not configured for this project."),
    "general_phone_disabled": (503, "Phone (SMS) sending is not configured for this project."),
    "general_route_not_found": (404, "The requested route was not found. Please refer to the API docs and try again."),
    "project_not_found": (404, "Project with the requested ID could not be found."),
    "general_server_error": (500, "Server Error"),
    "project_provider_disabled": (
        412,
        "The chosen OAuth provider is disabled. Configure its client id and secret to enable it.",
    ),
    "project_invalid_success_url": (400, "Invalid redirect URL for OAuth success."),
    "project_invalid_failure_url": (400, "Invalid redirect URL for OAuth failure."),
    "user_oauth2_provider_error": (424, "Failed to sign in with the OAuth2 provider. Please try again."),
    "user_identity_not_found": (404, "The identity could not be found."),
}


class ApiError(Exception):
    """An answer the API gives on purpose: status and message come from CATALOGUE."""

    def __init__(self, type_: str, message: str | None = None, headers: dict[str, str] | None = None):
        status, default_message = CATALOGUE[type_]
        super().__init__(message or default_message)
        self.type = type_
        self.status = status
        self.message = message or default_message
        self.headers = headers or {}


def invalid_param(name: str, why: str) -> ApiError:
    return ApiError("general_argument_invalid", f"Invalid `{name}` param: {why}")
