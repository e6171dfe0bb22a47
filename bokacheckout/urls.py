from django.contrib import admin
from django.urls import include, path

from bokacheckout import views

admin.site.site_header = admin.site.site_title = "bokacheckout"
admin.site.index_title = "Payments"
# The lists need the width of a laptop screen more than a second copy of the index.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("demo/", include("bokacheckout.demo.urls")),
    path("", include("checkouts.api.urls")),
]

handler400 = "checkouts.api.errors.bad_request"
handler404 = "checkouts.api.errors.page_not_found"
handler500 = "checkouts.api.errors.server_error"
