from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from statements import exports, services
from statements.forms import YearForm

DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", lambda s: exports.as_csv(s).encode("utf-8-sig")),
    "pdf": ("application/pdf", exports.as_pdf),
}


@never_cache  # a member's names and money: kept by no cache, shared or the browser's
@login_required
def statement(request, download=None):
    """The member's statement for ?year= (this year by default): a page, a CSV or a PDF. A bad
    year is a form error on the page (400), for a download too."""
    form = YearForm(request.GET)
    if not form.is_valid():
        return render(request, "statements/statement.html", {"form": form}, status=400)
    year = form.cleaned_data["year"]
    current = services.member_statement(user=request.user, year=year)
    if download:
        content_type, render_file = DOWNLOADS[download]
        response = HttpResponse(render_file(current), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="statement-{year}.{download}"'
        return response
    return render(
        request, "statements/statement.html", {"form": form, "statement": current, "year": year}
    )
