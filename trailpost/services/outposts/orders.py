"""Orders: CreateOrder, GetOrder, ListOrders, CancelOrder, and what a completed order installs."""
