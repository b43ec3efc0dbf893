"""Sources of caller identity (noauth, Keystone, JWT) behind one `Authenticator` interface."""
