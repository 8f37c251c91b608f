app_name = "backup"
urlpatterns = []
