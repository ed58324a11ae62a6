"""The replay's HTML report: plots people would rather look at than read."""
