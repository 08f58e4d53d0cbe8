"""Services: business logic between the API routes and agents/crud/models."""
