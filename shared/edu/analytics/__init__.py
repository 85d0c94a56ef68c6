"""Teacher analytics: read models projected from domain events, and the dashboards."""
