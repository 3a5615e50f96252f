# The version in ../VERSION, without its newline: the default version of
# package.nix, checked by "make check-nix" against the file.
builtins.replaceStrings [ "\n" ] [ "" ] (builtins.readFile ../VERSION)
