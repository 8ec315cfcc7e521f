"""Staff sign-in through the district's OpenID Connect provider (authorization code flow, PKCE,
state and nonce, ID token checked against the provider's published keys), using Authlib."""
