from django.contrib import admin
from django.urls import include, path

from realtime import pages

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("realtime.urls")),
    path("api/v1/", include("jobs.api.urls")),
    path("", include("alerts.urls")),
    path("", pages.feed, name="feed"),
    path("feed/jobs", pages.feed_jobs, name="feed-jobs"),
    path("jobs/<int:pk>/", pages.job_detail, name="job"),
    path("preferences/", pages.preferences, name="preferences"),
    path("sources/", pages.sources, name="sources"),
]
