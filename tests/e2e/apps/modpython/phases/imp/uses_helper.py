import mp_helper_mod
from mod_python import apache

def handler(req):
    req.write(mp_helper_mod.greeting())
    return apache.OK
