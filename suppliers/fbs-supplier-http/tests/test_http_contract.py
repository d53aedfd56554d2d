import fbs_supplier_http.plugin
from fbs_core.testing.contracts import SupplierContract


class TestHttpSupplierContract(SupplierContract):
    plugin = fbs_supplier_http.plugin
    type_name = "http"
    sample_options = {
        "base_url": "https://warehouse.example.test",
        "api_key": "wh_live_contract_secret",
        "ship_from_zip": "75201",
    }
