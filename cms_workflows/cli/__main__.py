from cms_workflows.cli.main import main

main()
