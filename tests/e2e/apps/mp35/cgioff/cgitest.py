import os
print("Content-type: text/plain\n")
print("offloaded", os.environ["QUERY_STRING"])
