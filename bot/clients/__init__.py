"""Adapters to the network: GitHub, Claude, the Admin usage report."""
