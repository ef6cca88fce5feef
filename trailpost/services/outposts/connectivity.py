"""Service links: StartConnection, GetConnection, CreatePrivateConnectivityConfig, GetPrivateConnectivityConfig."""
