"""Adapters that expose egov's services under GovStack building-block API contracts (../shared/specs/govstack/).

Each module is a thin Django Ninja router: it speaks the building block's paths and body shapes, and calls the
component's services, which decide rights, validate and log. ``digital_registries``: the Digital Registries BB Data
API, mounted at ``/api/govstack/digital-registries/``.
"""
