import fbs_channel_woocommerce.plugin
from fbs_channel_woocommerce.channel import WooCommerceChannel
from fbs_core.adapters import TrackingSink
from fbs_core.testing.contracts import OrderSourceContract


class TestWooCommerceChannel(OrderSourceContract):
    plugin = fbs_channel_woocommerce.plugin
    type_name = "woocommerce"
    sample_options = {
        "url": "https://shop.example.test",
        "consumer_key": "ck_contract_key_value",
        "consumer_secret": "cs_contract_secret_value",
        "webhook_secret": "contract-webhook-secret",
    }


def test_the_channel_is_also_the_tracking_sink_for_its_orders():
    assert issubclass(WooCommerceChannel, TrackingSink)
