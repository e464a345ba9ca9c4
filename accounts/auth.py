"""Authentication for the JSON API: session cookies (CSRF enforced); API keys join later."""

from ninja.security import SessionAuth


class StudioSessionAuth(SessionAuth):
    """Django's session cookie, with CSRF enforced on unsafe methods."""

    def authenticate(self, request, key):
        if request.user.is_authenticated:
            return request.user
        return None


session_auth = StudioSessionAuth(csrf=True)

# Every authenticated route uses this list, so adding an auth class here covers the whole API.
API_AUTH = [session_auth]
