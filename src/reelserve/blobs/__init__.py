"""Object storage for artifacts and inputs, and the signed URLs that point at them."""
