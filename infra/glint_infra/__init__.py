"""Glint's AWS deployment as one CDK stack, built from chalicelib's own description."""
