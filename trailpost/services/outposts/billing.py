"""Subscriptions and renewals: GetOutpostBillingInformation, GetRenewalPricing, CreateRenewal."""
