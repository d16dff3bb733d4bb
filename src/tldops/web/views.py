from django.http import HttpRequest, HttpResponse


def coverage(request: HttpRequest) -> HttpResponse:
    return HttpResponse("tldops")
