from django.conf import settings


def region(request):
    return {
        "region_code": settings.REGION_CODE,
        "region_name": settings.REGION_NAME,
        "atrium_portal_url": settings.ATRIUM_PORTAL_URL,
    }
