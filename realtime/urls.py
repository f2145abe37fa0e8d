from django.urls import path

from realtime import views

urlpatterns = [
    path("health", views.health, name="health"),
    path("ws/jobs", views.websocket_over_http, name="ws-jobs-http"),
]
