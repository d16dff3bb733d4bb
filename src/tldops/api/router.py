from ninja import NinjaAPI

api = NinjaAPI(title="tldops API", version="1", urls_namespace="api")
