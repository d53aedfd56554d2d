"""The core's default answers to the decision hooks (sourcing plan, shipping, tax)."""
