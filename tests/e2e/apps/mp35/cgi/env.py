import os, sys
body = sys.stdin.read()
print('Status: 201 Created')
print('Content-Type: text/plain')
print('X-Cgi: yes')
print()
print(os.environ['REQUEST_METHOD'], os.environ['QUERY_STRING'], body)
