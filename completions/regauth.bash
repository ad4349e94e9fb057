# bash completion for regauth                                   -*- shell-script -*-
# The candidates come from regauth itself (`regauth __complete WORD...`): commands, flags and
# their values, and the registries with stored credentials (never a secret).

_regauth() {
    local cur line
    local -a words
    # Words split on blanks only: registry names keep their ':' (COMP_WORDS splits at it).
    line=${COMP_LINE:0:COMP_POINT}
    read -r -a words <<<"$line"
    if [[ -z $line || $line == *[[:blank:]] ]]; then
        words+=("")
    fi
    cur=${words[${#words[@]}-1]}

    local output
    output=$("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) || return 0

    local -a candidates=()
    local candidate directive=""
    while IFS= read -r candidate; do
        case $candidate in
            :file | :dir) directive=$candidate ;;
            ?*) candidates+=("${candidate%%$'\t'*}") ;;
        esac
    done <<<"$output"

    COMPREPLY=()
    if [[ $directive == :dir ]]; then
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        compopt -o filenames 2>/dev/null
    elif [[ $directive == :file ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
    fi
    COMPREPLY+=("${candidates[@]}")

    # bash replaces only the part of the word after the last ':' when ':' breaks words.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon_prefix=${cur%"${cur##*:}"}
        local i
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=${COMPREPLY[i]#"$colon_prefix"}
        done
    fi
}

complete -F _regauth regauth
