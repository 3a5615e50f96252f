#!/bin/sh
# SOURCE-MARKER
# A menu program: the query comes from the TAB search or after "?";
# relative selectors are joined to this directory.
echo "You searched for: $QUERY_STRING"
printf '0Result one\tresults/one.txt\n'
printf '1Up\t..\n'
printf '7Search again\tsearch.sh\n'
printf '1A bad port\tsel\thost\tseventy\n'
printf '1Elsewhere\t/x\tgopher.example.org\t70\n'
