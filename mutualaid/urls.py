from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from members.api import WalletView
from mutualaid import views
from mutualaid.api import router
from mutualaid.token import ObtainToken
from statements.api import StatementView

# Each app registers its viewsets on the shared router in its own api.py.
import pools.api  # noqa: F401, E402  isort:skip
import members.api  # noqa: F401, E402  isort:skip
import claims.api  # noqa: F401, E402  isort:skip
import notice.api  # noqa: E402  isort:skip
import apportionment.api  # noqa: F401, E402  isort:skip
import reports.api  # noqa: F401, E402  isort:skip

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page links to.
    path("favicon.ico", views.favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("bench/hello", views.hello, name="bench-hello"),
    path("api/v1/auth/token/", ObtainToken.as_view(), name="api-token"),
    path("api/v1/wallet/", WalletView.as_view(), name="api-wallet"),
    path("api/v1/notice/", notice.api.NoticeList.as_view(), name="api-notice"),
    path("api/v1/statement/", StatementView.as_view(), name="api-statement"),
    path(
        "api/v1/claims/<int:pk>/objections/",
        notice.api.ClaimObjections.as_view(),
        name="api-claim-objections",
    ),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("pools.urls")),
    path("", include("members.urls")),
    path("", include("claims.urls")),
    path("", include("notice.urls")),
    path("", include("apportionment.urls")),
    path("", include("reports.urls")),
    path("", include("statements.urls")),
    prefix_default_language=False,
)

handler400 = "mutualaid.views.bad_request"
handler404 = "mutualaid.views.not_found"
handler500 = "mutualaid.views.server_error"
