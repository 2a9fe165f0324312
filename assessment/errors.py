"""App-wide error pages: JSON for the API and for clients that ask for it, HTML in Chinese otherwise."""

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES_ZH = {
    400: "请求有误",
    401: "需要登录",
    403: "没有权限访问此页面",
    404: "页面不存在",
    405: "不支持的请求方式",
    413: "上传的内容过大",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误",
}


def wants_json():
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def api_error(status, code, message, **extra):
    """The one error shape of the API: {"error": {"code": ..., "message": ...}}."""
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def register_error_handlers(app):
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        if wants_json():
            return api_error(400, "csrf_failed", exc.description)
        return render_template("error.html", status=400, message="表单已过期或来源无效，请刷新页面后重试。"), 400

    @app.errorhandler(HTTPException)
    def http_error(exc):
        status = exc.code or 500
        if wants_json():
            return api_error(status, exc.name.lower().replace(" ", "_"), exc.description)
        message = MESSAGES_ZH.get(status, exc.name)
        if status == 403 and request.method not in ("GET", "HEAD"):
            message = "您没有权限执行此操作。"  # a refused action (a viewer's POST), not a page
        return render_template("error.html", status=status, message=message), status
