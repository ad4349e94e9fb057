# Prints what zsh's completion system offers for command lines, one match per line, each
# line's matches followed by a line `--`:
#   zsh -f zsh_complete.zsh COMPLETION_DIR 'regauth lo' 'regauth logout ' ...
# An interactive zsh on a pseudo-terminal (zsh/zpty) loads compinit once, with COMPLETION_DIR
# first in $fpath; each line and a Tab are typed into it, every match added with compadd is
# written to a file, and the line is cleared (^U) before the next. Exits 3 when zpty is
# missing, 4 when a completion did not finish within 10 s.
emulate -L zsh
zmodload zsh/zpty || exit 3
local dir=$1
shift
local work
work=$(mktemp -d) || exit 3
local matches=$work/matches finished=$work/finished
cat >$work/init.zsh <<EOF
PS1='' PROMPT='' RPROMPT=''
fpath=(${(q)dir} \$fpath)
autoload -Uz compinit && compinit -u -D
compadd() {
  # Calls that only ask for matches (-O, -A, -D) are passed on unrecorded.
  if (( \${@[(I)-[OAD]*]} )); then builtin compadd "\$@"; return; fi
  local -a found
  builtin compadd -O found "\$@"
  (( \${#found} )) && print -rl -- "\${found[@]}" >> ${(q)matches}
  builtin compadd "\$@"
}
_capture_finished() { : > ${(q)finished} }
EOF
zpty capture zsh -f -i
zpty -w capture "source ${(q)work}/init.zsh"
local line i junk code=0
for line in "$@"; do
  rm -f $matches $finished
  # comppostfuncs is emptied after every completion: set it again each time.
  zpty -w capture "comppostfuncs=(_capture_finished)"
  zpty -w -n capture "$line"$'\t'
  for i in {1..200}; do
    [[ -e $finished ]] && break
    zpty -rt capture junk 2>/dev/null # keep the terminal drained
    sleep 0.05
  done
  if [[ ! -e $finished ]]; then
    code=4
    break
  fi
  [[ -e $matches ]] && sort -u $matches
  print -- --
  zpty -w -n capture $'\C-u'
done
zpty -d capture
rm -rf $work
exit $code
