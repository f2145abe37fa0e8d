from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from jobs.api import views

app_name = "api"

router = SimpleRouter()
router.register("jobs", views.JobViewSet, basename="job")
router.register("sources", views.SourceViewSet, basename="source")
router.register("runs", views.ScrapeRunViewSet, basename="run")

urlpatterns = [
    path("preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.api_docs, name="docs"),
    *router.urls,
]
