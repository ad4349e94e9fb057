# fish completion for regauth.
# The candidates come from regauth itself (`regauth __complete WORD...`): commands, flags and
# their values, and the registries with stored credentials (never a secret).

function __regauth_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l program $words[1]
    set -e words[1]
    for line in ($program __complete $words 2>/dev/null)
        switch $line
            case :file
                __fish_complete_path (commandline -ct)
            case :dir
                __fish_complete_directories (commandline -ct)
            case '*'
                echo $line
        end
    end
end

complete -c regauth -f -a '(__regauth_complete)'
