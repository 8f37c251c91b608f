app_name = "posture"
urlpatterns = []
