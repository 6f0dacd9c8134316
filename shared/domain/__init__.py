"""Pure domain: ids and URIs, models, policy matching, planners. No I/O and no Azure SDK here."""
