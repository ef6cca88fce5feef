"""The services trailpost serves; ``registry.build_services`` lists them."""
