"""Notification channels of an application and the webhook deliveries made to them."""
