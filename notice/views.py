from django.core.paginator import Paginator
from django.shortcuts import render

from notice.board import anonymized, board_queryset


def board(request):
    qs = board_queryset(request.GET.get("pool"), request.GET.get("condition"))
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    cases = [anonymized(c) for c in page.object_list]
    return render(request, "notice/board.html", {"page": page, "cases": cases})
