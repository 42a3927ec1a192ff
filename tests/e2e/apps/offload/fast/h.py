from mod_python import apache

def handler(req):
    req.write("fast")
    return apache.OK
