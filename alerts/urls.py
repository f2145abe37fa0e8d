"""The Alerts page and the alerts API (both wired in by one line of jobsentinel/urls.py)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from alerts import api, pages

app_name = "alerts"

router = SimpleRouter()
router.register("channels", api.ChannelViewSet, basename="channel")
router.register("deliveries", api.DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("api/v1/alerts/", include(router.urls)),
    path("alerts/", pages.page, name="page"),
    path("alerts/channels/", pages.add_channel, name="add"),
    path("alerts/channels/<int:channel_id>/test", pages.test_channel, name="test"),
    path("alerts/channels/<int:channel_id>/toggle", pages.toggle_channel, name="toggle"),
    path("alerts/channels/<int:channel_id>/delete", pages.delete_channel, name="delete"),
]
