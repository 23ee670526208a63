"""batch-review: asks on every Claude workload whether it belongs on the Message Batches API."""
