"""Access: login, sessions, first access and password reset; company users; rate limits."""
