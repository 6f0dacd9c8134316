"""What the Azure Functions platform defines and the product must honour (timer schedules)."""
