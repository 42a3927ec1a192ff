def page(req):
    return "open page"
