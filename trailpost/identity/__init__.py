"""Who is calling: accounts, access keys, SigV4 verification (later IAM users, roles, policies)."""
