"""A plugin with a misspelled hook name (``fbs_supplier`` instead of ``fbs_suppliers``)."""

import fbs_core


@fbs_core.hookimpl
def fbs_supplier():
    return []
