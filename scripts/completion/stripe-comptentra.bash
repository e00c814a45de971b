# Bash completion for stripe-comptentra: commands, options, option values and file arguments.
# Installed as share/bash-completion/completions/stripe-comptentra; to try it from the source
# tree: source scripts/completion/stripe-comptentra.bash

_stripe_comptentra_options() {
    case ${1-} in
        verify) echo "--signature --webhook-secret --tolerance --received-at" ;;
        sign) echo "--timestamp --webhook-secret" ;;
        entry) echo "--format --vat-rate --timezone --with-fees --stripe-key --stripe-url" ;;
        post) echo "--verify --dry-run --concurrency --signature --webhook-secret --tolerance
                    --received-at --comptentra-key --comptentra-url --stripe-key --stripe-url
                    --vat-rate --timezone --with-fees" ;;
        backfill) echo "--since --until --concurrency --format --dry-run --stripe-key --stripe-url
                        --stripe-account --max-rps --comptentra-key --comptentra-url --vat-rate
                        --timezone --with-fees" ;;
        reconcile) echo "--since --until --last --fix -q --quiet --format --lock --concurrency
                         --stripe-key --stripe-url --stripe-account --max-rps --comptentra-key
                         --comptentra-url --vat-rate --timezone --with-fees" ;;
        check) echo "--stripe-key --stripe-url --comptentra-key --comptentra-url" ;;
        listen) echo "--archive --bind --port --path --webhook-secret --tolerance --concurrency
                      --comptentra-key --comptentra-url --stripe-key --stripe-url --vat-rate
                      --timezone --with-fees" ;;
        config) echo "--webhook-secret --stripe-key --stripe-url --comptentra-key --comptentra-url
                      --vat-rate --timezone --with-fees" ;;
        *) echo "--json -v --verbose --timeout --config --version" ;;
    esac
}

_stripe_comptentra() {
    local current=${COMP_WORDS[COMP_CWORD]} previous=${COMP_WORDS[COMP_CWORD-1]}
    local commands="verify sign entry post backfill reconcile check listen config"
    local command="" word i
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
            --timeout | --config) ((i++)) ;;
            -*) ;;
            *) command=$word; break ;;
        esac
    done

    case $previous in
        --config | --lock) COMPREPLY=($(compgen -f -- "$current")); return ;;
        --archive) COMPREPLY=($(compgen -d -- "$current")); return ;;
        --bind) COMPREPLY=($(compgen -W "127.0.0.1 ::1 0.0.0.0 ::" -- "$current")); return ;;
        --format)
            case $command in
                entry) COMPREPLY=($(compgen -W "json fec" -- "$current")) ;;
                backfill) COMPREPLY=($(compgen -W "fec" -- "$current")) ;;
                reconcile) COMPREPLY=($(compgen -W "table json csv" -- "$current")) ;;
            esac
            return ;;
        --timezone)
            COMPREPLY=($(compgen -W "Europe/Paris Europe/Brussels Europe/Luxembourg UTC" -- "$current"))
            return ;;
        --last) COMPREPLY=($(compgen -W "1d 7d 30d 24h" -- "$current")); return ;;
        --since | --until | --timeout | --signature | --webhook-secret | --tolerance | \
        --received-at | --timestamp | --vat-rate | --stripe-key | --stripe-url | \
        --stripe-account | --max-rps | --comptentra-key | --comptentra-url | --concurrency | \
        --port | --path)
            return ;;
    esac

    if [[ -z $command ]]; then
        if [[ $current == -* ]]; then
            COMPREPLY=($(compgen -W "$(_stripe_comptentra_options) --help" -- "$current"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$current"))
        fi
    elif [[ $current == -* ]]; then
        COMPREPLY=($(compgen -W "$(_stripe_comptentra_options "$command") --help" -- "$current"))
    elif [[ $command == config ]]; then
        COMPREPLY=($(compgen -W "init" -- "$current"))
    else
        COMPREPLY=($(compgen -f -- "$current")) # inputs: files, directories or -
    fi
}

complete -o filenames -o bashdefault -F _stripe_comptentra stripe-comptentra
