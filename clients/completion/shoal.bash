# SPDX-License-Identifier: GPL-2.0
#
# Bash completion for shoal, Shoal's command line tool. Source it from
# ~/.bashrc or install it as /usr/share/bash-completion/completions/shoal.
# Verbs and options are completed from the lists below; instance ids are
# asked of the daemon (`shoal ls -q`, with the --socket given on the line),
# alive ones for most verbs and every known one for inspect; `cp` completes
# ID: prefixes and host paths. A daemon that does not answer completes nothing.

_shoal_ids()
{
	# $1: extra ls options (e.g. --all). The socket option of the line is reused.
	local sock=()
	[[ -n $_shoal_socket ]] && sock=(--socket "$_shoal_socket")
	command shoal "${sock[@]}" ls -q $1 2>/dev/null
}

_shoal()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n : || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local verbs="run create ls inspect exec execs cp rm update logs events stats bench version"
	local create_opts="--memory --label --ttl --network --disk"
	local _shoal_socket="" verb="" i

	# The verb is the first word after the global options.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket)
			_shoal_socket=${words[i + 1]}
			((i++))
			;;
		--socket=*) _shoal_socket=${words[i]#--socket=} ;;
		-*) ;;
		*)
			verb=${words[i]}
			break
			;;
		esac
	done

	if [[ -z $verb ]]; then
		case $prev in
		-s | --socket)
			COMPREPLY=($(compgen -f -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--socket --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		fi
		return
	fi

	# After "--" the words belong to the job's command: complete host commands.
	for ((j = i + 1; j < cword; j++)); do
		if [[ ${words[j]} == -- ]]; then
			COMPREPLY=($(compgen -c -- "$cur"))
			return
		fi
	done

	# Options that take a value.
	case $prev in
	--state | -s)
		if [[ $verb == ls ]]; then
			COMPREPLY=($(compgen -W "starting running stopping destroyed failed" -- "$cur"))
			return
		fi
		;;
	--svg)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--workdir | -w | --memory | -m | --label | -l | --ttl | -t | --timeout | -T | --env | -e | \
		--count | -n | --concurrency | -c | --interval | -I | --field | -f | --after | \
		--unlabel | -u | --disk | -D)
		return
		;;
	esac

	local opts=""
	case $verb in
	run) opts="$create_opts --interactive --env --workdir --timeout --rm --help" ;;
	create) opts="$create_opts --env --json --help" ;;
	ls) opts="--all --state --label --quiet --json --help" ;;
	inspect) opts="--field --help" ;;
	exec) opts="--interactive --env --workdir --timeout --json --help" ;;
	execs) opts="--json --help" ;;
	cp) opts="--parents --help" ;;
	rm) opts="--all --label --help" ;;
	update) opts="--ttl --no-ttl --label --unlabel --json --help" ;;
	logs) opts="--help" ;;
	events) opts="--json --after --no-follow --help" ;;
	stats) opts="--no-stream --interval --json --help" ;;
	bench) opts="--count --concurrency --keep $create_opts --json --svg --help" ;;
	version) opts="--json --help" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi

	case $verb in
	inspect | execs) COMPREPLY=($(compgen -W "$(_shoal_ids --all)" -- "$cur")) ;;
	rm | stats | update) COMPREPLY=($(compgen -W "$(_shoal_ids)" -- "$cur")) ;;
	exec | logs)
		# Only the first positional word is an id; the command follows "--".
		local n=0
		for ((j = i + 1; j < cword; j++)); do
			[[ ${words[j]} != -* ]] && ((n++))
		done
		if ((n == 0)); then
			COMPREPLY=($(compgen -W "$(_shoal_ids)" -- "$cur"))
		elif [[ $verb == exec ]]; then
			COMPREPLY=($(compgen -W "--" -- "$cur"))
		fi
		;;
	cp)
		if [[ $cur == *:* ]]; then
			return # a path inside the instance: nothing to complete from here
		fi
		local ids
		ids=$(_shoal_ids | sed 's/$/:/')
		COMPREPLY=($(compgen -W "$ids" -- "$cur") $(compgen -f -- "$cur"))
		compopt -o nospace 2>/dev/null
		;;
	esac
}

complete -F _shoal shoal
